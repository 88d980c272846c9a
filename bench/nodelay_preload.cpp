// nodelay_preload: an LD_PRELOAD shim that sets TCP_NODELAY on every accepted socket. It lets
// the tokend benchmark show what tokend would reach with Nagle's algorithm off, without
// touching tokend: cpp-httplib leaves Nagle on by default, and a keep-alive client then
// waits for its delayed ACK (~40 ms) on every response written in two parts.
//
//   LD_PRELOAD=build/bench/bench/libnodelay_preload.so tokend ...
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace {

int with_nodelay(int fd) {
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails harmlessly on AF_UNIX
    }
    return fd;
}

template <typename Fn>
Fn next_symbol(const char* name) {
    return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" int accept(int fd, sockaddr* addr, socklen_t* len) {
    using Fn = int (*)(int, sockaddr*, socklen_t*);
    static const Fn real = next_symbol<Fn>("accept");
    return with_nodelay(real(fd, addr, len));
}

extern "C" int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
    using Fn = int (*)(int, sockaddr*, socklen_t*, int);
    static const Fn real = next_symbol<Fn>("accept4");
    return with_nodelay(real(fd, addr, len, flags));
}
