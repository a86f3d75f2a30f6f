# Lists the compiler and C library (Debian package TAB version), run inside the image by images/build.sh.
dpkg-query -W -f='${Package}\t${Version}\n' gcc libc6-dev
