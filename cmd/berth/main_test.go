package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestHelpAndExitStatus checks the command line's conventions: help asked
// for goes to stdout with status 0; a bad command line prints its error
// once, to stderr, with status 2.
func TestHelpAndExitStatus(t *testing.T) {
	noEnv := func(string) string { return "" }
	tests := []struct {
		args       []string
		code       int
		stdoutHas  string // "" means stdout must be empty
		stderrHas  string // "" means stderr must be empty
		errorCount int    // how often stderrHas must appear
	}{
		{args: []string{"--help"}, code: 0, stdoutHas: "Commands:"},
		{args: []string{"-h"}, code: 0, stdoutHas: "Commands:"},
		{args: []string{"help"}, code: 0, stdoutHas: "Commands:"},
		{args: []string{"help", "server"}, code: 0, stdoutHas: "Start the berth server."},
		{args: []string{"help", "agent"}, code: 0, stdoutHas: "Join this host to an ECS cluster"},
		{args: []string{"server", "--help"}, code: 0, stdoutHas: "-strict-auth"},
		{args: []string{"server", "-h"}, code: 0, stdoutHas: "-data-dir"},
		{args: []string{"agent", "--help"}, code: 0, stdoutHas: "-cluster"},
		{args: []string{"version"}, code: 0, stdoutHas: "berth "},
		{args: []string{"server", "--bogus"}, code: 2, stderrHas: "flag provided but not defined: -bogus", errorCount: 1},
		{args: []string{"agent", "--bogus"}, code: 2, stderrHas: "flag provided but not defined: -bogus", errorCount: 1},
		{args: []string{"server", "extra"}, code: 2, stderrHas: "takes no arguments", errorCount: 1},
		{args: []string{"bogus"}, code: 2, stderrHas: `unknown command "bogus"`, errorCount: 1},
		{args: []string{"--bogus"}, code: 2, stderrHas: `unknown command "--bogus"`, errorCount: 1},
		{args: []string{"help", "--bogus"}, code: 2, stderrHas: `unknown command "--bogus"`, errorCount: 1},
		{args: []string{"exec", "--bogus"}, code: 2, stderrHas: "flag provided but not defined: -bogus", errorCount: 1},
		{args: []string{"exec", "--help"}, code: 0, stdoutHas: "-task"},
		{args: []string{"help", "bogus"}, code: 2, stderrHas: `unknown command "bogus"`, errorCount: 1},
		{args: nil, code: 2, stderrHas: "Commands:", errorCount: 1},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runMain(t.Context(), tt.args, &stdout, &stderr, noEnv)
			if code != tt.code {
				t.Errorf("exit status %d, want %d (stderr %q)", code, tt.code, stderr.String())
			}
			check := func(name, got, want string, count int) {
				switch {
				case want == "" && got != "":
					t.Errorf("%s = %q, want nothing", name, got)
				case want != "" && !strings.Contains(got, want):
					t.Errorf("%s = %q, want it to contain %q", name, got, want)
				case count > 0 && strings.Count(got, want) != count:
					t.Errorf("%s says %q %d times, want %d:\n%s", name, want, strings.Count(got, want), count, got)
				}
			}
			check("stdout", stdout.String(), tt.stdoutHas, 0)
			check("stderr", stderr.String(), tt.stderrHas, tt.errorCount)
			if tt.code == 2 && tt.args != nil && !strings.Contains(stderr.String(), "--help") {
				t.Errorf("stderr %q does not point at --help", stderr.String())
			}
		})
	}
}

// TestUsageRegion checks that berth's help suggests the region the README
// uses, in the variable the aws CLI v1 reads.
func TestUsageRegion(t *testing.T) {
	var stdout bytes.Buffer
	runMain(t.Context(), []string{"--help"}, &stdout, &bytes.Buffer{}, func(string) string { return "" })
	if strings.Contains(stdout.String(), "us-east-1") || !strings.Contains(stdout.String(), "AWS_DEFAULT_REGION=eu-west-1") {
		t.Errorf("berth --help does not suggest AWS_DEFAULT_REGION=eu-west-1 (the README's region):\n%s", stdout.String())
	}
}

// TestKubeBinaryHint checks that the hint berth logs when it finds no
// berth-kube names a place it looks: under `go run` the executable's own
// directory is a temporary one, so the hint is BERTH_KUBE_BINARY instead.
func TestKubeBinaryHint(t *testing.T) {
	goRun := kubeBinaryHint("/tmp/go-build2710451907/b001/exe/berth")
	if !strings.Contains(goRun, "BERTH_KUBE_BINARY=/tmp/berth-kube") || strings.Contains(goRun, "go-build") {
		t.Errorf("go run hint = %q", goRun)
	}
	installed := kubeBinaryHint("/home/u/go/bin/berth")
	if !strings.Contains(installed, "go build -o /home/u/go/bin/berth-kube ./cmd/berth-kube") {
		t.Errorf("installed hint = %q", installed)
	}
	if isGoRunBinary("/opt/exe/berth") || !isGoRunBinary("/var/tmp/x/go-build1/b001/exe/berth") {
		t.Error("isGoRunBinary misjudges a path")
	}
}
