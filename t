kamei: large.out is not a folder
Command exited with non-zero status 2
new large.out 10692
