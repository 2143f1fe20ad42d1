module github.com/tracebook/tracebook

go 1.26.8
