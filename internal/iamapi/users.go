package iamapi

import (
	"context"
	"strings"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/iam"
)

type createUserIn struct {
	UserName string
	Path     string
	Tags     []wTag
}

type userOutput struct{ User wUser }

func (a *API) createUser(ctx context.Context, c *awsproto.Call, in *createUserIn) (any, error) {
	u, err := a.plane.CreateUser(ctx, c.Account, in.UserName, in.Path, tagsIn(in.Tags))
	if err != nil {
		return nil, err
	}
	return &userOutput{User: userOut(u)}, nil
}

type userNameIn struct{ UserName string }

// callerUser returns the user an operation without UserName is about:
// the calling user (IAM's rule).
func callerUser(c *awsproto.Call, name string) (string, error) {
	if name != "" {
		return name, nil
	}
	if i := strings.Index(c.Principal, ":user/"); i >= 0 {
		return c.Principal[strings.LastIndex(c.Principal, "/")+1:], nil
	}
	return "", iam.Validation("Must specify userName when calling with non-User credentials")
}

func (a *API) getUser(ctx context.Context, c *awsproto.Call, in *userNameIn) (any, error) {
	name, err := callerUser(c, in.UserName)
	if err != nil {
		return nil, err
	}
	u, err := a.plane.User(ctx, c.Account, name)
	if err != nil {
		return nil, err
	}
	return &userOutput{User: userOut(u)}, nil
}

type listUsersIn struct {
	PathPrefix string
	pageIn
}

type listUsersOut struct {
	Users       []wUser
	IsTruncated bool
	Marker      string `json:",omitempty"`
}

func (a *API) listUsers(ctx context.Context, c *awsproto.Call, in *listUsersIn) (any, error) {
	us, err := a.plane.Users(ctx, c.Account, in.PathPrefix)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(us, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &listUsersOut{Users: []wUser{}, IsTruncated: next != "", Marker: next}
	for _, u := range pg {
		w := userOut(u)
		w.Tags = nil
		out.Users = append(out.Users, w)
	}
	return out, nil
}

func (a *API) deleteUser(ctx context.Context, c *awsproto.Call, in *userNameIn) (any, error) {
	return &empty{}, a.plane.DeleteUser(ctx, c.Account, in.UserName)
}

type tagUserIn struct {
	UserName string
	Tags     []wTag
}

func (a *API) tagUser(ctx context.Context, c *awsproto.Call, in *tagUserIn) (any, error) {
	return &empty{}, a.plane.TagUser(ctx, c.Account, in.UserName, tagsIn(in.Tags))
}

type untagUserIn struct {
	UserName string
	TagKeys  []string
}

func (a *API) untagUser(ctx context.Context, c *awsproto.Call, in *untagUserIn) (any, error) {
	return &empty{}, a.plane.UntagUser(ctx, c.Account, in.UserName, in.TagKeys)
}

type userNamePageIn struct {
	UserName string
	pageIn
}

func (a *API) listUserTags(ctx context.Context, c *awsproto.Call, in *userNamePageIn) (any, error) {
	u, err := a.plane.User(ctx, c.Account, in.UserName)
	if err != nil {
		return nil, err
	}
	return tagsPage(u.Tags, in.pageIn)
}

type userPolicyIn struct {
	UserName       string
	PolicyName     string
	PolicyDocument string
}

func (a *API) putUserPolicy(ctx context.Context, c *awsproto.Call, in *userPolicyIn) (any, error) {
	return &empty{}, a.plane.PutUserPolicy(ctx, c.Account, in.UserName, in.PolicyName, in.PolicyDocument)
}

type getUserPolicyOut struct {
	UserName       string
	PolicyName     string
	PolicyDocument string
}

func (a *API) getUserPolicy(ctx context.Context, c *awsproto.Call, in *userPolicyIn) (any, error) {
	doc, err := a.plane.UserPolicy(ctx, c.Account, in.UserName, in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &getUserPolicyOut{UserName: in.UserName, PolicyName: in.PolicyName, PolicyDocument: encodeDoc(doc)}, nil
}

func (a *API) deleteUserPolicy(ctx context.Context, c *awsproto.Call, in *userPolicyIn) (any, error) {
	return &empty{}, a.plane.DeleteUserPolicy(ctx, c.Account, in.UserName, in.PolicyName)
}

func (a *API) listUserPolicies(ctx context.Context, c *awsproto.Call, in *userNamePageIn) (any, error) {
	u, err := a.plane.User(ctx, c.Account, in.UserName)
	if err != nil {
		return nil, err
	}
	return namesPage(u.InlinePolicies, in.pageIn)
}

type attachUserIn struct {
	UserName  string
	PolicyArn string
}

func (a *API) attachUserPolicy(ctx context.Context, c *awsproto.Call, in *attachUserIn) (any, error) {
	return &empty{}, a.plane.AttachUserPolicy(ctx, c.Account, in.UserName, in.PolicyArn)
}

func (a *API) detachUserPolicy(ctx context.Context, c *awsproto.Call, in *attachUserIn) (any, error) {
	return &empty{}, a.plane.DetachUserPolicy(ctx, c.Account, in.UserName, in.PolicyArn)
}

type listAttachedUserIn struct {
	UserName   string
	PathPrefix string
	pageIn
}

func (a *API) listAttachedUserPolicies(ctx context.Context, c *awsproto.Call, in *listAttachedUserIn) (any, error) {
	u, err := a.plane.User(ctx, c.Account, in.UserName)
	if err != nil {
		return nil, err
	}
	return a.attachedPage(ctx, c, u.Attached, in.PathPrefix, in.pageIn)
}

type accessKeyOutput struct{ AccessKey wAccessKey }

func (a *API) createAccessKey(ctx context.Context, c *awsproto.Call, in *userNameIn) (any, error) {
	name, err := callerUser(c, in.UserName)
	if err != nil {
		return nil, err
	}
	k, err := a.plane.CreateAccessKey(ctx, c.Account, name)
	if err != nil {
		return nil, err
	}
	return &accessKeyOutput{AccessKey: wAccessKey{UserName: k.User, AccessKeyId: k.ID, Status: k.Status, SecretAccessKey: k.Secret, CreateDate: k.Created}}, nil
}

type listAccessKeysOut struct {
	AccessKeyMetadata []wAccessKeyMetadata
	IsTruncated       bool
	Marker            string `json:",omitempty"`
}

func (a *API) listAccessKeys(ctx context.Context, c *awsproto.Call, in *userNamePageIn) (any, error) {
	name, err := callerUser(c, in.UserName)
	if err != nil {
		return nil, err
	}
	ks, err := a.plane.AccessKeys(ctx, c.Account, name)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(ks, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &listAccessKeysOut{AccessKeyMetadata: []wAccessKeyMetadata{}, IsTruncated: next != "", Marker: next}
	for _, k := range pg {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, wAccessKeyMetadata{UserName: k.User, AccessKeyId: k.ID, Status: k.Status, CreateDate: k.Created})
	}
	return out, nil
}

type accessKeyIn struct {
	UserName    string
	AccessKeyId string
	Status      string
}

func (a *API) updateAccessKey(ctx context.Context, c *awsproto.Call, in *accessKeyIn) (any, error) {
	name, err := callerUser(c, in.UserName)
	if err != nil {
		return nil, err
	}
	return &empty{}, a.plane.UpdateAccessKey(ctx, c.Account, name, in.AccessKeyId, in.Status)
}

func (a *API) deleteAccessKey(ctx context.Context, c *awsproto.Call, in *accessKeyIn) (any, error) {
	name, err := callerUser(c, in.UserName)
	if err != nil {
		return nil, err
	}
	return &empty{}, a.plane.DeleteAccessKey(ctx, c.Account, name, in.AccessKeyId)
}
