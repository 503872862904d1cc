print("zkswiftd")
