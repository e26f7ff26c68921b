# attack: a function that never returns (busy loop)
# module: similarity
# attacked: scaled_dot_product
# expect: timeout
# timeout: 1


def scaled_dot_product(a, b):
    while True:
        pass
