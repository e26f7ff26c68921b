# attack: returns a 12 MB word from analogy (a function whose answer is a word): every message, hint, JSON and report that quotes it must stay small (it was quoted whole: a 48 MB JSON, a 60 MB report)
# module: embeddings
# attacked: analogy
# expect: characters in all | header
def analogy(words, E, a, b, c):
    return "w" * 12_000_000
