"""N TLS 1.3 handshakes whose client Finished and close_notify leave in
one write (so the server reads both in one recv, as load clients and
`openssl s_client </dev/null` often make it do), then read to EOF.
Usage: finished_close.py PORT N"""
import socket
import ssl
import sys

port, n = int(sys.argv[1]), int(sys.argv[2])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
    t = ctx.wrap_bio(inb, outb, server_hostname="localhost")
    while True:
        try:
            t.do_handshake()
            break
        except ssl.SSLWantReadError:
            s.sendall(outb.read())
            data = s.recv(65536)
            if not data:
                sys.exit("the server closed during the handshake")
            inb.write(data)
    try:
        t.unwrap()  # our close_notify, behind the Finished not yet sent
    except ssl.SSLWantReadError:
        pass
    s.sendall(outb.read())  # Finished + close_notify: one write
    while s.recv(65536):
        pass
    s.close()
