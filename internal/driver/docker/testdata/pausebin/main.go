// Command pausebin is a stand-in for the berth binary in tests of the
// sandbox image fallback: it implements only the pause subcommand.
package main

import (
	"os"

	"github.com/berth-dev/berth/internal/driver/pause"
)

func main() {
	if pause.IsPause(os.Args) {
		os.Exit(pause.Main())
	}
	os.Exit(2)
}
