// Command pairdeck is a node-pairing gateway with a live terminal console.
//
// Run with no arguments it opens the console (attached to the gateway
// already running for the state dir, or with one embedded); `pairdeck serve`
// runs the gateway headless; `pairdeck nodes …` scripts it; `pairdeck node …`
// is the node side of pairing.
package main

import (
	"os"

	"github.com/pairdeck/pairdeck/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
