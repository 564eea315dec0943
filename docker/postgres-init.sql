-- The permanent CEN database lives beside the platform database, owned by the same role.
CREATE DATABASE cen OWNER cencomm;
