// Placeholder entry point; the commands arrive in Sluice.swift.
print("sluice")
