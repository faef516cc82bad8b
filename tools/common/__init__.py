"""What the toolsets share: field types, time handling, result shapes, name resolution, composite calls."""
