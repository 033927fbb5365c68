package elbproxy

import (
	"context"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// idlePoller waits for the fast path's idle connections without a
// goroutine each: one goroutine blocks in epoll_wait on all of them (a
// second, one-shot registration of their sockets next to Go's own
// poller) and starts a goroutine to serve a connection when it turns
// readable. A connection idle past its deadline is closed by a sweep
// once a second. When epoll is not available, the connection keeps a
// goroutine of its own waiting (waitReadable).
type idlePoller struct {
	p    *Proxy
	once sync.Once
	epfd int // -1 when not available
	wake int // eventfd that ends the loop

	mu      sync.Mutex // guards waiting (also while start makes it)
	waiting map[int32]*fastConn
}

// add hands fc, idle and without buffers, to the poller until its socket
// is readable; false when the poller cannot take it.
func (ip *idlePoller) add(fc *fastConn, deadline time.Time) bool {
	ip.once.Do(ip.start)
	if ip.epfd < 0 {
		return false
	}
	sc, ok := fc.c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	added := false
	rc.Control(func(fd uintptr) {
		fc.fd, fc.deadline = int32(fd), deadline
		ip.mu.Lock()
		ip.waiting[fc.fd] = fc
		ip.mu.Unlock()
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: fc.fd}
		if err := unix.EpollCtl(ip.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev); err != nil {
			ip.mu.Lock()
			delete(ip.waiting, fc.fd)
			ip.mu.Unlock()
			return
		}
		added = true
	})
	return added
}

func (ip *idlePoller) start() {
	ip.epfd, ip.wake = -1, -1
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: -1}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wake)
		return
	}
	ip.epfd, ip.wake = epfd, wake
	ip.mu.Lock()
	ip.waiting = map[int32]*fastConn{}
	ip.mu.Unlock()
	stop := context.AfterFunc(ip.p.ctx, func() {
		var one = [8]byte{1}
		unix.Write(wake, one[:])
	})
	ip.p.goroutine(func() {
		defer stop()
		ip.loop()
	})
}

// loop serves the readiness events until the proxy stops, then closes
// what still waits.
func (ip *idlePoller) loop() {
	defer func() {
		ip.mu.Lock()
		waiting := ip.waiting
		ip.waiting = map[int32]*fastConn{}
		ip.mu.Unlock()
		for _, fc := range waiting {
			fc.close()
		}
		unix.Close(ip.epfd)
		unix.Close(ip.wake)
	}()
	events := make([]unix.EpollEvent, 64)
	nextSweep := time.Now().Add(time.Second)
	for {
		n, err := unix.EpollWait(ip.epfd, events, 1000)
		if err != nil && err != unix.EINTR {
			return
		}
		for _, ev := range events[:max(n, 0)] {
			if ev.Fd == -1 {
				return // the proxy stops
			}
			ip.mu.Lock()
			fc := ip.waiting[ev.Fd]
			delete(ip.waiting, ev.Fd)
			ip.mu.Unlock()
			unix.EpollCtl(ip.epfd, unix.EPOLL_CTL_DEL, int(ev.Fd), nil)
			if fc != nil {
				ip.p.goroutine(func() { fc.serve(false) })
			}
		}
		if now := time.Now(); now.After(nextSweep) {
			nextSweep = now.Add(time.Second)
			ip.sweep(now)
		}
	}
}

// sweep closes the connections idle past their deadline.
func (ip *idlePoller) sweep(now time.Time) {
	var expired []*fastConn
	ip.mu.Lock()
	for fd, fc := range ip.waiting {
		if now.After(fc.deadline) {
			expired = append(expired, fc)
			delete(ip.waiting, fd)
		}
	}
	ip.mu.Unlock()
	for _, fc := range expired {
		unix.EpollCtl(ip.epfd, unix.EPOLL_CTL_DEL, int(fc.fd), nil)
		fc.close()
	}
}
