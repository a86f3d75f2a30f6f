# Lists what a JavaScript program can use beyond its own code (name TAB version), run inside the image by images/build.sh.
printf 'node\t%s\n' "$(node -p process.versions.node)"
for f in /usr/lib/node_modules/*/package.json /usr/share/nodejs/*/package.json; do
  [ -f "$f" ] && node -e 'const p = require(process.argv[1]); console.log(p.name + "\t" + p.version)' "$f"
done
true
