# Chained tracebacks: "During handling ..." and "The above exception was the direct cause ...".
import json


def load(text):
    try:
        return json.loads(text)
    except ValueError as e:
        raise RuntimeError("bad configuration") from e


def main():
    try:
        {}["missing"]
    except KeyError:
        load("{not json")


main()
