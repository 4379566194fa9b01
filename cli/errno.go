package cli

import "syscall"

var errAddrInUse = syscall.EADDRINUSE
