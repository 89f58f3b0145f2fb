#!/usr/bin/python3
"""The example streams of River's drift detector docs, reproduced bit for bit.

River (online-ml/river) documents its detectors with streams drawn from Python's `random`
(a Mersenne Twister): `rng.choices(...)` picks floor(random() * len(population)). River itself
is not installable here, so this script regenerates the exact streams with the same calls and
writes them to streaming.json; the indices at which River reports a change are River's published
outputs, copied from the places cited below, not computed here.

Run with /usr/bin/python3 generate_streaming.py (standard library only).
"""
import json
import os
import random


def two_regimes(seed):
    rng = random.Random(seed)
    return rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)


def four_regimes(seed):
    rng = random.Random(seed)
    return (
        rng.choices([0, 1], k=1000)
        + rng.choices(range(4, 8), k=1000)
        + rng.choices([0, 1], k=1000)
        + rng.choices(range(4, 8), k=1000)
    )


cases = [
    {
        "name": "ADWIN docstring example",
        "source": "river/drift/adwin.py docstring (riverml.xyz/0.21.2/api/drift/ADWIN): "
        "'Change detected at index 1023, input value: 4'",
        "detector": "adwin",
        "stream": two_regimes(12345),
        "detections": [1023],
    },
    {
        "name": "ADWIN regression test, four regimes",
        "source": "river/drift/test_adwin_regression.py::test_multiple_drifts: detected == [1023, 2015, 3007]",
        "detector": "adwin",
        "stream": four_regimes(42),
        "detections": [1023, 2015, 3007],
    },
    {
        "name": "PageHinkley docstring example",
        "source": "river/drift/page_hinkley.py docstring (mode='both'): 'Change detected at index 1006, input value: 5'",
        "detector": "page-hinkley",
        "stream": two_regimes(12345),
        "detections": [1006],
    },
]

# The docs print the value at the detection index too: keep it, as a check on the stream itself.
for case in cases:
    case["valuesAtDetections"] = [case["stream"][i] for i in case["detections"]]

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "streaming.json"), "w") as f:
    json.dump({"generator": "generate_streaming.py", "cases": cases}, f, separators=(",", ":"))
    f.write("\n")
