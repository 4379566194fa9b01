//go:build !unix

package gateway

import "os/exec"

// killGroupOnCancel leaves exec's default: the command itself is killed
// when its context ends.
func killGroupOnCancel(*exec.Cmd) {}
