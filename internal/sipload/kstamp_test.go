package sipload

import (
	"net"
	"testing"
	"time"
)

// TestKernelStamp: a packet read 100 ms after it arrived carries its
// arrival time, not the read time.
func TestKernelStamp(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !enableKernelStamps(c) {
		t.Skip("SO_TIMESTAMPNS not available")
	}
	sent := time.Now()
	if _, err := c.WriteToUDP([]byte("x"), c.LocalAddr().(*net.UDPAddr)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	buf, oob := make([]byte, 16), make([]byte, oobSize)
	_, oobn, _, _, err := c.ReadMsgUDPAddrPort(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	read := time.Now()
	at := kernelStamp(oob[:oobn], read)
	if d := at.Sub(sent); d < 0 || d > 20*time.Millisecond {
		t.Errorf("stamp %v after the send (read %v after), want the arrival", d, read.Sub(sent))
	}
}
