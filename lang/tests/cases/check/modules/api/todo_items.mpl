pub fn list() -> List<String> = ["write", "test"]
