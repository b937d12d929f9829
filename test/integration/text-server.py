#!/usr/bin/env python3
"""text-server.py ADDR PORT TEXT: the lab's stand-in service. Answers every
TCP connection to ADDR:PORT with TEXT and a newline, then closes it.

One process, no fork per connection: socat's fork mode (the former stand-in)
lost the answer to about one connection in five while health checks that close
with a reset hit the same listener, which made the client's view flaky."""
import socket
import sys


def main():
    addr, port, text = sys.argv[1], int(sys.argv[2]), (sys.argv[3] + "\n").encode()
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port))
    s.listen(512)
    while True:
        c, _ = s.accept()
        try:
            c.sendall(text)
        except OSError:
            pass  # a probe that reset at once
        c.close()


if __name__ == "__main__":
    main()
