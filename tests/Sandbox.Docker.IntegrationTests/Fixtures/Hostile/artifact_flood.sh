# Attack: flood /tmp/outputs to make the host read, keep or serve what it should not: many files, one huge file, a
# symlink to /etc/passwd and one to /, a name with a newline, a pipe, and an .html page. Capped by the profile's
# artifacts caps, links and the pipe dropped unread, names checked, the page typed application/octet-stream
# (ArtifactTests checks each; '../' names cannot exist on a filesystem, so TarArtifactReaderTests forges them).
# @expect ok
# @stdout FLOODED
cd /tmp/outputs || exit 1
printf '<html><script>alert(1)</script></html>' > 0-page.html
ln -s /etc/passwd 1-passwd
head -c 6000000 /dev/zero > 2-huge.bin
echo x > "$(printf '3-new\nline')"
mkfifo 4-pipe
ln -s / 5-root
i=100
while [ "$i" -lt 300 ]; do echo "$i" > "f$i.txt"; i=$((i + 1)); done
echo FLOODED
