//go:build !linux

package radius

import "net"

func setReadBufferForce(*net.UDPConn, int) {}
