package awslogs

import (
	"fmt"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
)

// Target is where a container's output goes.
type Target struct {
	Group       string `json:"group"`
	Region      string `json:"region"`
	Stream      string `json:"stream"`
	CreateGroup bool   `json:"createGroup"`
	// Task is the ARN of the container's task, whose execution role
	// writes ("" in positions saved before it was kept).
	Task string `json:"task,omitempty"`
}

// TargetOf reads a container's awslogs options; ok is false for another
// log driver. The stream is prefix/container/task-id, or the container's
// runtime ID without a prefix (as Docker's awslogs driver names it).
func TargetOf(lc *ecs.LogConfiguration, taskARN, container, runtimeID, defaultRegion string) (Target, bool, error) {
	if lc == nil || lc.LogDriver != "awslogs" {
		return Target{}, false, nil
	}
	o := lc.Options
	t := Target{Group: o["awslogs-group"], Region: o["awslogs-region"], CreateGroup: strings.EqualFold(o["awslogs-create-group"], "true"), Task: taskARN}
	if t.Group == "" {
		return Target{}, true, fmt.Errorf("awslogs-group is required")
	}
	if t.Region == "" {
		t.Region = defaultRegion
	}
	if p := o["awslogs-stream-prefix"]; p != "" {
		t.Stream = p + "/" + container + "/" + TaskID(taskARN)
	} else {
		t.Stream = runtimeID
	}
	return t, true, nil
}

// TaskID is the last part of a task ARN.
func TaskID(arn string) string {
	return arn[strings.LastIndexByte(arn, '/')+1:]
}
