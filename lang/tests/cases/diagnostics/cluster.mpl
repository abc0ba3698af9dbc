@cluster fn private_work() -> Int = 1

@cluster("two") pub fn bad_count() -> Int = 2

@retry pub fn unknown_attr() -> Int = 3
