//! `junit.xml` through quick-junit.
