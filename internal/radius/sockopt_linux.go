package radius

import (
	"net"
	"syscall"
)

// setReadBufferForce raises SO_RCVBUF beyond net.core.rmem_max when the
// process may (CAP_NET_ADMIN); otherwise SetReadBuffer's capped value stands.
func setReadBufferForce(c *net.UDPConn, n int) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, n)
	})
}
