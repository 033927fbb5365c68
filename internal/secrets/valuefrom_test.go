package secrets

import "testing"

func TestParseValueFrom(t *testing.T) {
	task := Scope{Account: "123456789012", Region: "eu-west-1"}
	cases := []struct {
		in   string
		want Ref
	}{
		{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf", Ref{Kind: "secret", Scope: task, ID: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"}},
		{"arn:aws:secretsmanager:us-east-1:111122223333:secret:db:password::", Ref{Kind: "secret", Scope: Scope{"111122223333", "us-east-1"},
			ID: "arn:aws:secretsmanager:us-east-1:111122223333:secret:db", JSONKey: "password"}},
		{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:db::AWSPREVIOUS:", Ref{Kind: "secret", Scope: task,
			ID: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db", VersionStage: "AWSPREVIOUS"}},
		{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:db:k::0f1e", Ref{Kind: "secret", Scope: task,
			ID: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db", JSONKey: "k", VersionID: "0f1e"}},
		{"arn:aws:secretsmanager:...:secret:db-password", Ref{Kind: "secret", Scope: task, ID: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-password"}},
		{"arn:aws:ssm:eu-west-1:123456789012:parameter/prod/api-key", Ref{Kind: "parameter", Scope: task, ID: "/prod/api-key"}},
		{"/prod/api-key", Ref{Kind: "parameter", Scope: task, ID: "/prod/api-key"}},
		{"db-password", Ref{Kind: "name", Scope: task, ID: "db-password"}},
	}
	for _, c := range cases {
		got, ok := ParseValueFrom(task, c.in)
		if !ok || got != c.want {
			t.Errorf("ParseValueFrom(%q) = %+v, %v; want %+v", c.in, got, ok, c.want)
		}
	}
	for _, bad := range []string{"", "arn:aws:s3:::bucket/key", "arn:aws:secretsmanager:eu-west-1:1:secret:", "arn:aws:ssm:eu-west-1:1:parameter/"} {
		if r, ok := ParseValueFrom(task, bad); ok {
			t.Errorf("ParseValueFrom(%q) = %+v, want refused", bad, r)
		}
	}
}

func TestStagingLabels(t *testing.T) {
	s := &Secret{}
	v1 := &Version{ID: "v1", Stages: []string{StageCurrent}}
	s.AddVersion(v1)
	v2 := &Version{ID: "v2", Stages: []string{StageCurrent}}
	s.AddVersion(v2)
	if s.VersionByStage(StageCurrent) != v2 || s.VersionByStage(StagePrevious) != v1 {
		t.Fatalf("after v2: %+v %+v", v1, v2)
	}
	v3 := &Version{ID: "v3", Stages: []string{StageCurrent}}
	s.AddVersion(v3)
	if s.VersionByStage(StageCurrent) != v3 || s.VersionByStage(StagePrevious) != v2 || len(v1.Stages) != 0 {
		t.Fatalf("after v3: v1=%v v2=%v v3=%v", v1.Stages, v2.Stages, v3.Stages)
	}
	s.MoveStage(StageCurrent, v1)
	if s.VersionByStage(StageCurrent) != v1 || s.VersionByStage(StagePrevious) != v3 || len(v2.Stages) != 0 {
		t.Fatalf("after moving back: v1=%v v2=%v v3=%v", v1.Stages, v2.Stages, v3.Stages)
	}
	p := &Version{ID: "p", Stages: []string{StagePending}}
	s.AddVersion(p)
	if s.VersionByStage(StageCurrent) != v1 || s.VersionByStage(StagePending) != p {
		t.Fatal("a pending version moved AWSCURRENT")
	}
}
