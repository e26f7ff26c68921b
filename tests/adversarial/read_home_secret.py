# attack: reads a private file of the grading account (__HOME__/canary.txt) and sends its content back as its answer and in its printed output
# module: embeddings
# attacked: analogy
# expect: returned | not allow


def analogy(words, E, a, b, c):
    try:
        with open("__HOME__/canary.txt") as f:
            secret = f.read().strip()
    except Exception:
        return "__nope__"
    print("stolen:", secret)
    return "stolen: " + secret
