package secretstore

import (
	"time"

	"github.com/berth-dev/berth/internal/secrets"
)

// The stored shapes, secretstore's own. Values are sealed.

type tagRec struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

type versionRec struct {
	ID           string    `json:"id"`
	Stages       []string  `json:"stages,omitempty"`
	Sealed       []byte    `json:"sealed"` // the value, sealed; string or binary per IsString
	IsString     bool      `json:"isString,omitempty"`
	Created      time.Time `json:"created"`
	LastAccessed time.Time `json:"lastAccessed,omitzero"`
}

type secretRec struct {
	Name           string       `json:"name"`
	ARN            string       `json:"arn"`
	Description    string       `json:"description,omitempty"`
	KmsKeyID       string       `json:"kmsKeyId,omitempty"`
	Tags           []tagRec     `json:"tags,omitempty"`
	Versions       []versionRec `json:"versions,omitempty"`
	Created        time.Time    `json:"created"`
	LastChanged    time.Time    `json:"lastChanged"`
	LastAccessed   time.Time    `json:"lastAccessed,omitzero"`
	DeletionDate   time.Time    `json:"deletionDate,omitzero"`
	ResourcePolicy string       `json:"policy,omitempty"`
}

type paramVersionRec struct {
	Version        int64     `json:"version"`
	Sealed         []byte    `json:"sealed"`
	Type           string    `json:"type"`
	Description    string    `json:"description,omitempty"`
	KeyID          string    `json:"keyId,omitempty"`
	AllowedPattern string    `json:"pattern,omitempty"`
	Labels         []string  `json:"labels,omitempty"`
	Modified       time.Time `json:"modified"`
	ModifiedUser   string    `json:"user,omitempty"`
	Tier           string    `json:"tier,omitempty"`
	DataType       string    `json:"dataType,omitempty"`
}

type paramRec struct {
	Name     string            `json:"name"`
	Tags     []tagRec          `json:"tags,omitempty"`
	Versions []paramVersionRec `json:"versions"`
}

func tagsToRec(in []secrets.Tag) []tagRec {
	out := make([]tagRec, len(in))
	for i, t := range in {
		out[i] = tagRec{t.Key, t.Value}
	}
	return out
}

func tagsFromRec(in []tagRec) []secrets.Tag {
	out := make([]secrets.Tag, len(in))
	for i, t := range in {
		out[i] = secrets.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

func (s *Repo) toSecretRec(x *secrets.Secret) secretRec {
	r := secretRec{Name: x.Name, ARN: x.ARN, Description: x.Description, KmsKeyID: x.KmsKeyID, Tags: tagsToRec(x.Tags),
		Created: x.Created, LastChanged: x.LastChanged, LastAccessed: x.LastAccessed, DeletionDate: x.DeletionDate, ResourcePolicy: x.ResourcePolicy}
	for _, v := range x.Versions {
		vr := versionRec{ID: v.ID, Stages: v.Stages, Created: v.Created, LastAccessed: v.LastAccessed}
		if v.String != nil {
			vr.IsString, vr.Sealed = true, s.sealer.Seal([]byte(*v.String), x.ARN+"/"+v.ID)
		} else {
			vr.Sealed = s.sealer.Seal(v.Binary, x.ARN+"/"+v.ID)
		}
		r.Versions = append(r.Versions, vr)
	}
	return r
}

func (s *Repo) fromSecretRec(r *secretRec) (*secrets.Secret, error) {
	x := &secrets.Secret{Name: r.Name, ARN: r.ARN, Description: r.Description, KmsKeyID: r.KmsKeyID, Tags: tagsFromRec(r.Tags),
		Created: r.Created, LastChanged: r.LastChanged, LastAccessed: r.LastAccessed, DeletionDate: r.DeletionDate, ResourcePolicy: r.ResourcePolicy}
	for _, vr := range r.Versions {
		plain, err := s.sealer.Open(vr.Sealed, r.ARN+"/"+vr.ID)
		if err != nil {
			return nil, err
		}
		v := &secrets.Version{ID: vr.ID, Stages: vr.Stages, Created: vr.Created, LastAccessed: vr.LastAccessed}
		if vr.IsString {
			str := string(plain)
			v.String = &str
		} else {
			v.Binary = plain
		}
		x.Versions = append(x.Versions, v)
	}
	return x, nil
}

func (s *Repo) toParamRec(sc secrets.Scope, p *secrets.Parameter) paramRec {
	r := paramRec{Name: p.Name, Tags: tagsToRec(p.Tags)}
	arn := secrets.ParameterARN(sc, p.Name)
	for _, v := range p.Versions {
		r.Versions = append(r.Versions, paramVersionRec{Version: v.Version, Sealed: s.sealer.Seal([]byte(v.Value), arn+"/"+itoa(v.Version)),
			Type: v.Type, Description: v.Description, KeyID: v.KeyID, AllowedPattern: v.AllowedPattern, Labels: v.Labels,
			Modified: v.Modified, ModifiedUser: v.ModifiedUser, Tier: v.Tier, DataType: v.DataType})
	}
	return r
}

func (s *Repo) fromParamRec(sc secrets.Scope, r *paramRec) (*secrets.Parameter, error) {
	p := &secrets.Parameter{Name: r.Name, Tags: tagsFromRec(r.Tags)}
	arn := secrets.ParameterARN(sc, r.Name)
	for _, vr := range r.Versions {
		plain, err := s.sealer.Open(vr.Sealed, arn+"/"+itoa(vr.Version))
		if err != nil {
			return nil, err
		}
		p.Versions = append(p.Versions, &secrets.ParamVersion{Version: vr.Version, Value: string(plain), Type: vr.Type,
			Description: vr.Description, KeyID: vr.KeyID, AllowedPattern: vr.AllowedPattern, Labels: vr.Labels, Modified: vr.Modified,
			ModifiedUser: vr.ModifiedUser, Tier: vr.Tier, DataType: vr.DataType})
	}
	return p, nil
}
