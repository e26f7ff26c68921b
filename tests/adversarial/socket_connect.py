# attack: opens network connections: TCP connect to 127.0.0.1:__PORT__ (the test's listener) and sends a line, UDP datagram to the same port
# module: similarity
# attacked: scaled_dot_product
# expect: outside tolerance | not allow
_adv_correct = scaled_dot_product


def _adv_attack():
    try:
        import socket
    except ImportError:
        return
    try:
        with socket.create_connection(("127.0.0.1", __PORT__), timeout=1.0) as connection:
            connection.sendall(b"exfiltrated by a submission __MARKER__\n")
    except Exception:
        pass
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as datagram:
            datagram.sendto(b"exfiltrated by a submission __MARKER__\n", ("127.0.0.1", __PORT__))
    except Exception:
        pass


def scaled_dot_product(a, b):
    _adv_attack()
    return _adv_correct(a, b) + 1.0
