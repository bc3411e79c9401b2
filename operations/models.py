"""Operations has no models of its own (it reads the other apps').

This module exists so that Django sends operations the pre_migrate and post_migrate signals
(only apps with a models module get them): `operations.sql_views` keeps the SQL views there.
"""
