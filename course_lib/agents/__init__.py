"""Reference agents: each a set of named, tested functions and a pure ``train(key)``."""
