# Lists the image's Python packages (name TAB version), run inside the image by images/build.sh.
python3 -c 'import importlib.metadata as m
for d in m.distributions():
    print(d.metadata["Name"], d.version, sep="\t")'
