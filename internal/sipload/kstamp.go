package sipload

import (
	"net"
	"syscall"
	"time"
	"unsafe"
)

// Arrival times come from the kernel (SO_TIMESTAMPNS) when it gives
// them: the moment the packet reached the socket, not the moment the load
// tool's reader goroutine got to it. Without this a busy load generator
// would count its own scheduling delays as the server's late packets.

func enableKernelStamps(c *net.UDPConn) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return false
	}
	return serr == nil
}

// oobSize fits one SO_TIMESTAMPNS control message.
var oobSize = syscall.CmsgSpace(int(unsafe.Sizeof(syscall.Timespec{})))

// kernelStamp returns the receive time in oob, or fallback.
func kernelStamp(oob []byte, fallback time.Time) time.Time {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return fallback
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SO_TIMESTAMPNS &&
			len(m.Data) >= int(unsafe.Sizeof(syscall.Timespec{})) {
			ts := (*syscall.Timespec)(unsafe.Pointer(&m.Data[0]))
			return time.Unix(int64(ts.Sec), int64(ts.Nsec))
		}
	}
	return fallback
}
