# Lists the tools a bash program can call (Debian package TAB version), run inside the image by images/build.sh.
dpkg-query -W -f='${Package}\t${Version}\n' bash coreutils gawk sed grep bc jq
