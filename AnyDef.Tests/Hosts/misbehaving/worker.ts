// The test host above runs no worker; this file only has to exist (and can carry its start-up markers).
