package ecs

import (
	"errors"
	"strings"
)

// ExecNotEnabledMessage is ECS's refusal of ExecuteCommand for a task that
// cannot take it.
const ExecNotEnabledMessage = "The execute command failed because execute command was not enabled when the task was run or the execute command agent isn't running. Wait and try the request again or run a new task with execute command enabled and try again."

// ExecuteCommandAgent is the managed agent ECS shows on the containers of
// a task run with enableExecuteCommand.
const ExecuteCommandAgent = "ExecuteCommandAgent"

// SplitCommand splits an ExecuteCommand command into its arguments the way
// the Session Manager agent does: no shell runs it, words are separated by
// blanks, and single quotes, double quotes and backslashes group and
// escape as in a POSIX shell (so "/bin/sh -c 'echo $HOME'" passes
// "echo $HOME" to sh).
func SplitCommand(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case ch == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("unterminated double quote")
			}
			inWord = true
		case ch == '\\':
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
			inWord = true
		case ch == ' ' || ch == '\t' || ch == '\n':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		args = append(args, cur.String())
	}
	if len(args) == 0 {
		return nil, errors.New("the command is empty")
	}
	return args, nil
}
