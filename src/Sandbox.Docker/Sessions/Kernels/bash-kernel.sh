# The bash session kernel (see BashKernel.cs): one shell kept across cells, so variables, functions, cwd, options and
# exported variables persist. Sent by the host as the profile's source file and run as the profile's command.
#
# The shell's stdin moves to fd 60 and /dev/null takes its place, so nothing a cell runs reads the frames; fds 61 and 62
# keep the real stdout and stderr for the markers, so a cell's `exec >file` cannot swallow them. A cell runs with its
# own stdin (a file) and with 60-62 closed. A frame, all lengths in bytes:
#   CELL <nonce> <outputs 0|1> <code length> <stdin length> <file count>\n <code> <stdin>
#   then per file: <length> <path>\n <content>
# The cell is sourced at the top level (never in a function: its `declare`s would be local), inside two loops, so a
# cell's stray `break` or `continue` ends that cell, not the kernel. After it, /tmp/outputs is handed out as the run's
# outputs step does, and `\0SBX-END <nonce> <code>\n` goes to stderr, then stdout. A cell that runs `exit` ends the shell:
# the host sees the kernel gone, and the next cell starts a fresh one.
exec 60<&0 61>&1 62>&2 </dev/null
command rm -f -- "$0"
__sbx_dir=/tmp/.sandbox-kernel
__sbx_pending=0

# Reads the next frame; exits when the host closed the stream, 125 on a malformed frame.
__sbx_next() {
    local -
    set +efuvx
    local tag count size path i code=
    IFS=' ' builtin read -r -u 60 tag __sbx_nonce __sbx_outputs __sbx_code_length __sbx_stdin_length count || builtin exit 0
    if [ "$tag" != CELL ] || [[ ! "$__sbx_code_length$__sbx_stdin_length$count" =~ ^[0-9]+$ ]]; then
        builtin printf 'sandbox-kernel: bad frame header\n' >&62
        builtin exit 125
    fi
    [ -d "$__sbx_dir" ] || command mkdir -p "$__sbx_dir"
    if [ "$__sbx_code_length" -le 65536 ]; then
        # Most cells are short: read them with a builtin (bytes, as LC_ALL=C counts; the host sends no NUL), no fork.
        [ "$__sbx_code_length" -eq 0 ] || LC_ALL=C IFS= builtin read -r -N "$__sbx_code_length" -u 60 code
        builtin printf '%s' "$code" >"$__sbx_dir/cell"
    else
        __sbx_take "$__sbx_code_length" "$__sbx_dir/cell"
    fi
    __sbx_take "$__sbx_stdin_length" "$__sbx_dir/stdin"
    for ((i = 0; i < count; i++)); do
        IFS=' ' builtin read -r -u 60 size path || builtin exit 125
        # Paths were validated on the host (relative, no '..'); they land under /tmp whatever the cell's cwd is.
        case "$path" in */*) command mkdir -p -- "/tmp/${path%/*}" ;; esac
        __sbx_take "$size" "/tmp/$path"
    done
    [ -d /tmp/outputs ] || command mkdir -p /tmp/outputs
    __sbx_pending=1
}

# Copies exactly <length> bytes of the frame stream to <file> (GNU head never reads past them).
__sbx_take() {
    if [ "$1" -eq 0 ]; then
        : >"$2"
    else
        command head -c "$1" <&60 >"$2"
    fi
}

# Ends the cell with exit code <code>: hands /tmp/outputs out, then writes the end markers.
__sbx_end() {
    local -
    set +efuvx
    local code=$1 entry found= failglob= globignore= ignoring=
    __sbx_pending=0
    if [ "$__sbx_outputs" = 1 ]; then
        # Is anything in the folder? Builtins only (no fork on every cell's way), whatever the cell did to globbing.
        builtin shopt -q failglob && { failglob=1; builtin shopt -u failglob; }
        [ -n "${GLOBIGNORE+set}" ] && { ignoring=1; globignore=$GLOBIGNORE; builtin unset GLOBIGNORE; }
        for entry in /tmp/outputs/* /tmp/outputs/.[!.]* /tmp/outputs/..?*; do
            if [ -e "$entry" ] || [ -L "$entry" ]; then
                found=1
                break
            fi
        done
        [ -z "$failglob" ] || builtin shopt -s failglob
        [ -z "$ignoring" ] || GLOBIGNORE=$globignore
    fi
    if [ -n "$found" ]; then
        # As the run's outputs step: GNU tar, links archived as links (never followed), names sorted; then emptied.
        builtin printf '\036SANDBOX-OUTPUTS %s\n' "$__sbx_nonce" >&61
        command tar -C /tmp/outputs --format=gnu --hard-dereference --sort=name -cf - . 2>/dev/null >&61
        command find /tmp/outputs -mindepth 1 -delete 2>/dev/null
    fi
    builtin printf '\0SBX-END %s 0\n' "$__sbx_nonce" >&62
    builtin printf '\0SBX-END %s %d\n' "$__sbx_nonce" "$code" >&61
}

while :; do
    while :; do
        # A `continue` in the last cell skipped its end: end it now.
        [ "$__sbx_pending" = 1 ] && __sbx_end 0
        __sbx_next
        builtin source "$__sbx_dir/cell" <"$__sbx_dir/stdin" 60<&- 61>&- 62>&-
        __sbx_end "$?"
    done
    # A `break` in the last cell left the inner loop before its end.
    [ "$__sbx_pending" = 1 ] && __sbx_end 0
done
