fn helper() = 1
