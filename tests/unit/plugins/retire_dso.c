/* A library for test_application_retire to dlopen and dlclose. */
int pmx_test_retire_dso_answer(void);
int pmx_test_retire_dso_answer(void) { return 42; }
