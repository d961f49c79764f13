"""examples/config.md must be what `depotd --config-doc` prints (regenerate it with that command)."""
import subprocess
import sys

depotd, doc = sys.argv[1], sys.argv[2]
table = subprocess.run([depotd, "--config-doc"], check=True, capture_output=True, text=True).stdout
text = open(doc, encoding="utf-8").read()
if table not in text:
    print(f"{doc} is out of date: regenerate its table with `depotd --config-doc`")
    sys.exit(1)
print(f"ok - {doc} carries the current table ({table.count(chr(10))} lines)")
