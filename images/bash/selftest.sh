# Self-test of the bash image: the shell, coreutils and the few text tools it carries.
set -euo pipefail
echo "bash ${BASH_VERSINFO[0]}"
declare -A seen=([a]=1 [b]=2)
echo "assoc ${seen[b]} $(( 6 * 7 ))"
printf 'c\na\nb\n' | sort | tr '\n' ' '; echo
echo "awk $(echo '1 2 3' | awk '{ print $1 + $2 + $3 }')"
echo "sed $(echo hello | sed 's/l/L/g')"
echo "jq $(echo '{"a":[1,2]}' | jq -c '.a | length')"
echo "bc $(echo '2^10' | bc)"
echo "sha256 $(printf sandbox | sha256sum | cut -c1-16)"
echo data > /tmp/f.txt && echo "file $(wc -c < /tmp/f.txt) $(pwd)"
echo "unicode héllo ✓"
# No setuid or setgid program where programs live (the Dockerfile strips them; selftest.sh checks the whole image).
echo "setid $(find /usr/bin /usr/sbin /usr/libexec /usr/local /opt -xdev -type f -perm /6000 2>/dev/null | wc -l)"
