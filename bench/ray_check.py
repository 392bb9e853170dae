"""The lent machine's check (16 cores): 12 visitors with 12 different seeds on 8 Ray workers.

    python bench/ray_check.py OUT.json

The same class as `bench/ray_cluster.py class --seeds` on this project's 2-core machine, with
a head of 8 CPUs (8 trainings at once) and two web replicas, all in a loopback-only network
namespace. Prints the seconds from Start to a model for the last visitor, and the page p95.
Not run in this project's sessions so far (docs/scaling.md says so).
"""

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "ray_check.json")
    subprocess.run([sys.executable, str(HERE / "ray_cluster.py"), "class", str(out), "--seeds",
                    "--cpus", "8"], check=True, timeout=900)
    found = json.loads(out.read_text())
    print(json.dumps({k: found.get(k) for k in ("last_model_s", "page_p95_s", "stats", "error")}))


if __name__ == "__main__":
    main()
