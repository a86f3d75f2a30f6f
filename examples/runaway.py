# Burns CPU forever: the sandbox kills it at the profile's CPU limit.
while True:
    pass
