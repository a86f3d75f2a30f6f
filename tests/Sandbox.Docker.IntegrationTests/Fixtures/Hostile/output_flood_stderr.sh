# Attack: flood stderr. The stderr cap applies separately.
# @expect output_limit
yes 'flood' >&2
