# Exit paths: output before sys.exit is flushed, and the code reaches the host.
import sys
print("about to exit")
sys.stderr.write("on stderr\n")
sys.exit(3)
