# Counts the words on stdin.
wc -w | tr -d ' '
