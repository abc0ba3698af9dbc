this file is a test file and is not part of the build (
