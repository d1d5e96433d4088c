# The envquality project image: Airflow 3.3.2 plus the envquality package and its DAGs.
# Built by docker-compose.yml (docs/deployment.md); no secrets are baked in.
FROM apache/airflow:3.3.2-python3.11

USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk curl \
 && rm -rf /var/lib/apt/lists/*
USER airflow

WORKDIR /opt/envquality
COPY --chown=airflow:root pyproject.toml README.md ./
COPY --chown=airflow:root envquality ./envquality
COPY --chown=airflow:root expectations ./expectations
COPY --chown=airflow:root maps ./maps
COPY --chown=airflow:root dags ./dags
# Airflow itself comes from the base image: install the project without re-resolving it
RUN pip install --no-cache-dir "apache-airflow==3.3.2" "apache-airflow-providers-celery" \
      "psycopg2-binary" -e ".[postgres,excel,gx,maps,dask]"

ENV PYTHONPATH=/opt/envquality \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/envquality/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False
