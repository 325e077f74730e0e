let greeting who = "Hello, " ^ who ^ ", from greeting!"
