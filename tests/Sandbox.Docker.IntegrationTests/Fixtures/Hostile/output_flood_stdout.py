# Attack: flood stdout. The cap is enforced while reading and the run is killed.
# @expect output_limit
import sys
while True:
    sys.stdout.write("A" * 65536)
