# An exception group (Python 3.11): indented "+" and "|" lines, no unindented last line.
def main():
    raise ExceptionGroup("two failures", [ValueError("first"), TypeError("second")])


main()
